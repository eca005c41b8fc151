"""`make bench`: every benchmark, each printing its ratio against a baseline from the same run."""

from __future__ import annotations

from bench import import_speed


def main() -> None:
    import_speed.main()


if __name__ == "__main__":
    main()
