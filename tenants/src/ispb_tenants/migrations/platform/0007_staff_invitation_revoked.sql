-- A pending staff invitation can be withdrawn by the operator's admin (issue 11): its link stops working and
-- says so. The row stays (with who withdrew it and when) so the activity log's line keeps its object.
ALTER TABLE staff_invitation
    ADD COLUMN revoked_at timestamptz,
    ADD COLUMN revoked_by integer REFERENCES platform_user (id) ON DELETE SET NULL;
