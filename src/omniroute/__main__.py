"""`python -m omniroute` is the `omniroute` command."""

from omniroute.cli import main

if __name__ == "__main__":
    main()
