-- What an operator prints on its invoices: postal address, phone, e-mail and a logo (PNG, JPEG or SVG).
ALTER TABLE tenant
    ADD COLUMN address      text NOT NULL DEFAULT '',
    ADD COLUMN phone        text NOT NULL DEFAULT '',
    ADD COLUMN email        text NOT NULL DEFAULT '',
    ADD COLUMN logo         bytea CHECK (logo IS NULL OR octet_length(logo) <= 262144),
    ADD COLUMN logo_type    text CHECK (logo_type IS NULL OR logo_type IN ('image/png', 'image/jpeg', 'image/svg+xml')),
    ADD CONSTRAINT tenant_logo_has_type CHECK ((logo IS NULL) = (logo_type IS NULL));
