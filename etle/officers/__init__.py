"""Police officers who review cases, and their roles."""
