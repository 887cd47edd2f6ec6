"""The music library on disk: scanning folders (scan.py) and files uploaded in the admin (uploads.py)."""
