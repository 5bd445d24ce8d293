-- Secrets are never shown back (issue 11): a message that carries a secret (the welcome SMS with the PPPoE
-- password, a portal sign-in code) keeps in `body` the text shown in Sent Messages and on the customer page,
-- with the secret masked, and the text the gateway gets sealed here (secrets_box, bound to the tenant, the
-- purpose "outbox.text" and the row's key). NULL: `body` is the text sent. Cleared once the message is sent.
ALTER TABLE outbox ADD COLUMN text_sealed text;
