"""newsflow core library: importable and testable without Airflow."""

__version__ = "0.1.0"
