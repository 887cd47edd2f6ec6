"""Imports from CSV files, all or nothing.

Each import reads its whole file once to check every row (no database work),
then writes in one transaction, in chunks, so a bad row anywhere leaves the
database exactly as it was. A dry run does the same work and rolls back.
"""
