-- Messages shown once on the next page of a session ("Package saved"): set by the server after a successful
-- post, taken by the next full page. Never from a query string, so no link can put text into a banner.
ALTER TABLE web_session ADD COLUMN flash jsonb NOT NULL DEFAULT '[]'::jsonb
    CHECK (jsonb_typeof(flash) = 'array' AND octet_length(flash::text) <= 16000);
