"""Accounts: who may call what. A profile per account with its role (worker or requester),
sign-up with look-alike names refused, API tokens that die with the password, and the role
permissions every API view checks. The lowest app: it imports no other."""
