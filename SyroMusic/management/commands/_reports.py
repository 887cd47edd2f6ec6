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


def write_scan_report(command, path, report):
    """Print a library scan's figures (stdout), then each refused file and each warning (stderr)."""
    heading = "Dry run (nothing written) of the scan" if report.dry_run else "Scan"
    command.stdout.write(f"{heading} of {path} in {report.seconds:.1f} s:")
    for name, count in report.ordered_counts():
        command.stdout.write(f"  {name}: {count:,}")
    for file, reason in report.refused:
        command.stderr.write(f"{file}: {reason}")
    for file, message in report.warnings:
        command.stderr.write(f"{file}: warning: {message}")
