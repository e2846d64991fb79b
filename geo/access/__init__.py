"""Who sees what: accounts and sign-in, sessions, grid scope, privacy masking, the audit log."""
