"""A progress display for the import commands: one bar while checking the file, one while writing."""

import sys

from tqdm import tqdm


class ImportProgress:
    def __init__(self, *, path, enabled):
        self.enabled = enabled
        self.path = path
        self.bar = None
        self.phase = None
        self.checked = 0

    def _switch(self, phase, total=None):
        self.close()
        self.phase = phase
        description = f"checking {self.path}" if phase == "checking" else "importing"
        self.bar = tqdm(
            total=total, desc=description, unit=" rows", unit_scale=True, file=sys.stderr,
            disable=None if self.enabled else True, mininterval=0.5,
        )

    def checking(self, count):
        if self.phase != "checking":
            self._switch("checking")
        self.bar.update(count)
        self.checked += count

    def writing(self, count):
        if self.phase != "writing":
            self._switch("writing", total=self.checked or None)
        self.bar.update(count)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class ScanProgress:
    """The scan's bar: audio files done (unchanged ones at once), on stderr; none when stderr is not a terminal."""

    def __init__(self, *, enabled):
        self.enabled = enabled
        self.bar = None

    def start(self, total):
        self.close()
        self.bar = tqdm(
            total=total, desc="scanning", unit=" files", unit_scale=True, file=sys.stderr,
            disable=None if self.enabled else True, mininterval=0.5,
        )

    def advance(self, count):
        self.bar.update(count)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
