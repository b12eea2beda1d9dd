"""Staff sign-in: username and password (argon2id) for short tokens, rotating refresh tokens,
and the standing check that makes a deactivation or a role change count at the next request."""
