-- SMS credit per operator (bought from the platform): sending consumes it by segments; below the threshold the
-- operator is alerted once a day; at zero, messages wait instead of being dropped.
ALTER TABLE tenant
    ADD COLUMN sms_credit           integer NOT NULL DEFAULT 0 CHECK (sms_credit >= 0),
    ADD COLUMN sms_low_threshold    integer NOT NULL DEFAULT 100 CHECK (sms_low_threshold >= 0),
    ADD COLUMN sms_low_alerted_on   date;
