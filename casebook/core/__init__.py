"""The ground floor every package stands on: settings, store engine, errors, clock, working days, audit log,
users and actors, text normalisation and the application context. Imports no domain or shell module."""
