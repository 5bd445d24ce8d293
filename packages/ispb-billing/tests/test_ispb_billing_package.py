"""Runs with only ispb-billing installed: the package imports, reports its version and keeps its promises."""

import ast
import importlib.metadata
import sys
from pathlib import Path

import ispb_billing

SOURCE = Path(ispb_billing.__file__).parent


def test_version_matches_installed_metadata() -> None:
    assert ispb_billing.__version__ == importlib.metadata.version("ispb-billing")


def test_every_public_name_exists() -> None:
    assert len(set(ispb_billing.__all__)) == len(ispb_billing.__all__)
    for name in ispb_billing.__all__:
        assert hasattr(ispb_billing, name), name


def test_the_platform_api_is_importable_from_the_top_level() -> None:
    from ispb_billing import (  # noqa: F401
        Account,
        Adjustment,
        Allocation,
        BillDraft,
        BillLine,
        CurrencyMismatch,
        Cycle,
        Discount,
        DunningDecision,
        EntryKind,
        ImplausibleBill,
        LedgerEntry,
        LineKind,
        Money,
        OpenBill,
        PackageTerms,
        Period,
        ProrataPolicy,
        Settlement,
        SuspensionRule,
        VatSplit,
        advance_credit,
        allocate,
        amount_due,
        balance,
        compute_bill,
        daily_period,
        decide,
        decide_all,
        due_period,
        exponent,
        format_money,
        monthly_bill_date,
        monthly_period_containing,
        next_daily_period,
        package_change_adjustments,
        sum_money,
        vat_exclusive,
        vat_inclusive,
    )


def _trees() -> list[tuple[Path, ast.Module]]:
    files = sorted(SOURCE.glob("*.py"))
    assert files
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in files]


def test_imports_only_the_standard_library_and_itself() -> None:
    for path, tree in _trees():
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: relative import"
                names = [node.module or ""]
            for name in names:
                top = name.partition(".")[0]
                assert top == "ispb_billing" or top in sys.stdlib_module_names, f"{path.name} imports {name}"


def test_no_float_anywhere_in_the_library() -> None:
    for path, tree in _trees():
        for node in ast.walk(tree):
            assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), f"float in {path.name}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "float", f"float() in {path.name}"
