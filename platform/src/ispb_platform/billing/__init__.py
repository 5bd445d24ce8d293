"""Bills and Payments: billing profiles now; bills, payments and invoices build on them."""
