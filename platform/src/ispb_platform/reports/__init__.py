"""Reports for operators (docs/reports.md): precomputed month and year figures (``refresh.py``, run by the jobs in
``jobs.py``), the Overview's charts built from them (``overview.py``) and their CSV exports (``routes.py``)."""
