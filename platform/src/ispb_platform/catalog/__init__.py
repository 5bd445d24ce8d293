"""Master Packages: what customers buy (price, VAT, speed, data allowance and FUP speed, validity, type)."""
