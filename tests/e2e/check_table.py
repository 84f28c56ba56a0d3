"""The results table every e2e script prints: one line per check, ok or FAIL, with its detail."""


class CheckTable:
    def __init__(self):
        self.rows = []

    def check(self, name, ok, detail=""):
        self.rows.append((name, bool(ok), detail))

    def report(self):
        """Prints the table; returns the exit code (1 if any check failed)."""
        width = max((len(r[0]) for r in self.rows), default=0)
        for name, ok, detail in self.rows:
            print(f"{'ok  ' if ok else 'FAIL'} {name:{width}s}  {detail}")
        failed = [r[0] for r in self.rows if not r[1]]
        if failed:
            print("FAILED: " + ", ".join(failed))
        return 1 if failed else 0
