"""The training commands default to the region the app is configured for (one place: Config)."""
from app.config import Config
from training import evaluate, train
from training.synth import __main__ as synth_command
from training.synth.run import Settings


def test_every_command_defaults_to_the_app_region():
    assert Settings(out="x", firms=1, seed=0).region == Config.REGION_CODE
    assert synth_command.parse(["--firms", "1", "--seed", "0", "--out", "x"]).region == Config.REGION_CODE
    assert train.parse_args(["--data", "x"]).region == Config.REGION_CODE
    assert evaluate.parse_args(["--model", "m", "--data", "x"]).region == Config.REGION_CODE
