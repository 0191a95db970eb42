"""Who may see and do what: read and event rules, access requests and grants, accounts (passwords, tokens,
sign-in, downloads and the bulk-download freeze)."""
