"""Every `pxlib` command's --help says what it does and shows examples (before its exit statuses)."""

from __future__ import annotations

import pytest

from pxlib.cli import COMMANDS, main


@pytest.mark.parametrize("argv", [[]] + [[name] for name in COMMANDS])
def test_help_has_a_description_examples_and_exit_statuses(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 12, f"pxlib {' '.join(argv)}: no description"
    assert "\nexamples:\n  pxlib " in text or "\nexamples:\n  jupyter " in text
    examples = text[text.index("examples:") : text.index("exit statuses:")]
    lines = examples.splitlines()[1:]
    commands = [line.strip() for line in lines if line.startswith("  ") and line[2] != " "]
    explained = [line.strip() for line in lines if line.startswith("      ")]
    assert len(explained) == len(commands), "each example says what it does"
    assert commands and all(c.split()[0] in ("pxlib", "jupyter") for c in commands)
    if argv:
        assert any(c.startswith(f"pxlib {argv[0]}") for c in commands)
    assert "exit statuses:\n  0 " in text


def test_every_subcommand_is_described():
    parser_help = {name: info["help"] for name, info in COMMANDS.items()}
    assert set(parser_help) == {"demo", "sample", "validate", "kernel", "batch"}
