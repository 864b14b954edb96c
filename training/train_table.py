"""Entry point: `python -m training.train_table --csv FILE --target COL --bad VALUE` (see training/table/cli.py)."""
from training.table.cli import main

if __name__ == "__main__":
    main()
