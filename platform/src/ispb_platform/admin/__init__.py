"""The admin console for platform and group admins: operators (tenants), their users, platform figures."""
