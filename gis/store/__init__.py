"""The store: settings, the database engine, the local cluster, models, migrations and health."""
