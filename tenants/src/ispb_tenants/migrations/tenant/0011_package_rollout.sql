-- A package edit reaches the network (issue 14): `apply_profile` is a router-level command (no customer) that
-- writes a package's PPP profile on an API-managed router; the commands of a package's rollout carry
-- {"package_id": N} in their payload, and the package page counts them through this index.
ALTER TABLE router_command DROP CONSTRAINT router_command_action_check;
ALTER TABLE router_command ADD CONSTRAINT router_command_action_check
    CHECK (action IN ('suspend', 'activate', 'apply_package', 'disconnect', 'apply_profile'));
CREATE INDEX router_command_package_idx ON router_command (((payload ->> 'package_id')::integer), created_at)
    WHERE payload ? 'package_id';
