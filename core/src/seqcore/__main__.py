"""``python -m seqcore`` runs the command line (also what ``torchrun -m seqcore`` starts)."""

from seqcore.cli.main import main

if __name__ == "__main__":
    main()
