def write_report(command, file, report):
    """Print an import's figures and bad rows the same way for every import command."""
    heading = "Dry run (nothing written)" if report.dry_run else "Import"
    command.stdout.write(f"{heading} of {file}: {report.rows:,} rows read.")
    for name, count in sorted(report.counts.items()):
        command.stdout.write(f"  {name}: {count:,}")
    for line, message in report.errors:
        command.stderr.write(f"{file}:{line}: {message}")
    hidden = report.error_count - len(report.errors)
    if hidden:
        command.stderr.write(f"... and {hidden:,} more bad row(s)")
