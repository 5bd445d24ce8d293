"""The web layer: Litestar routes, tenancy dependencies, templates and static files."""
