"""``flask demo seed``."""

import click


@click.group("demo", help="演示数据。")
def demo_cli() -> None:
    pass
