"""The ``credex`` command line: ``credex.cli.main`` (the entry point; ``COMMANDS`` maps
each command to the module that registers it) and one module per command group. The
only place that prints or sets exit codes. Its public interface is the command itself.
"""

__all__: list[str] = []
