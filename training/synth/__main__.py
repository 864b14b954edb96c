"""`python -m training.synth --firms N --seed S --out DIR`: write a synthetic district."""
import argparse
import json
import re

from app.config import Config

from .run import Settings, generate


def _month(text):
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError("expected YYYY-MM")
    return text


def _rate(text):
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("expected a share between 0 and 1")
    return value


def parse(argv=None):
    """The command's settings from its arguments."""
    parser = argparse.ArgumentParser(prog="python -m training.synth", description=__doc__)
    parser.add_argument("--firms", type=int, required=True, help="number of credit subjects")
    parser.add_argument("--seed", type=int, required=True, help="the same seed gives the same bytes")
    parser.add_argument("--out", required=True, help="directory to write into (created)")
    parser.add_argument("--months", type=int, default=36, help="months of monthly records (default 36)")
    parser.add_argument("--end", type=_month, default="2026-09", help="last month, YYYY-MM (default 2026-09)")
    parser.add_argument("--default-rate", type=_rate, default=0.05, help="share of loans that default")
    parser.add_argument("--region", default=Config.REGION_CODE, help="region code of app/regions/<code>.json")
    args = parser.parse_args(argv)
    if args.firms < 1 or args.months < 13 or args.seed < 0:
        parser.error("--firms must be positive, --months at least 13 and --seed not negative")
    return Settings(out=args.out, firms=args.firms, seed=args.seed, months=args.months, end=args.end,
                    default_rate=args.default_rate, region=args.region)


def main(argv=None):
    """Generate the district and print the one-line JSON summary last."""
    summary = generate(parse(argv))
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
