-- What an operator prints on its invoices (address, phone, e-mail, logo: PNG, JPEG or SVG) and tells
-- customers about paying.
ALTER TABLE tenant
    ADD COLUMN address      text NOT NULL DEFAULT '',
    ADD COLUMN phone        text NOT NULL DEFAULT '',
    ADD COLUMN email        text NOT NULL DEFAULT '',
    -- how customers can pay (shown on the suspension portal and in the customer portal)
    ADD COLUMN payment_instructions text NOT NULL DEFAULT '',
    ADD COLUMN logo         bytea CHECK (logo IS NULL OR octet_length(logo) <= 262144),
    ADD COLUMN logo_type    text CHECK (logo_type IS NULL OR logo_type IN ('image/png', 'image/jpeg', 'image/svg+xml')),
    ADD CONSTRAINT tenant_logo_has_type CHECK ((logo IS NULL) = (logo_type IS NULL));
