"""The built-in job templates (declared as entry points in ``setup.cfg``).

Nornir, netmiko and NAPALM are imported when a template runs, not when the
platform starts: they are slow to import, cost a web process megabytes, and
only the worker runs templates. The catalogue reads only the parameters'
annotations, so ``Task`` and ``Result`` are named for type checkers alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from nornir.core.task import Result, Task


def _result(task: Task, value: Any) -> Result:
    from nornir.core.task import Result

    return Result(host=task.host, result=value)


def hello_world(task: Task) -> Result:
    """Each host says hello: checks that the inventory and the runner work, touching no device."""
    return _result(task, f"Hello from {task.host.name}")


def say(task: Task, text: str) -> Result:
    """Each host says the given text.

    Args:
        text: what the hosts say
    """
    return _result(task, f"{task.host.name} says {text}")


def command(task: Task, command_string: str, use_textfsm: bool = False, enable: bool = False) -> Result:
    """Run a command over SSH (netmiko) and return its output.

    Args:
        command_string: the command to run, e.g. ``show version``
        use_textfsm: parse the output with TextFSM templates into records
        enable: enter enable mode first (the host's ``secret`` connection extra)
    """
    from nornir_netmiko.tasks import netmiko_send_command

    output = task.run(task=netmiko_send_command, command_string=command_string, use_textfsm=use_textfsm, enable=enable)
    return _result(task, output[0].result)


def napalm_getters(task: Task, getters: list[str] = ["facts"]) -> Result:  # noqa: B006  (the default is published, never mutated)
    """Collect NAPALM getters from each device.

    Args:
        getters: NAPALM getter names without ``get_``, e.g. facts, interfaces, lldp_neighbors
    """
    from nornir_napalm.plugins.tasks import napalm_get

    collected = task.run(task=napalm_get, getters=getters)
    return _result(task, collected[0].result)


def get_interfaces(task: Task) -> Result:
    """The interfaces of each device (NAPALM ``get_interfaces``)."""
    return napalm_getters(task, getters=["interfaces"])


def get_configuration(task: Task, retrieve: Literal["all", "running", "startup", "candidate"] = "running") -> Result:
    """The configuration of each device (NAPALM ``get_config``).

    Args:
        retrieve: which configuration to fetch
    """
    from nornir_napalm.plugins.tasks import napalm_get

    collected = task.run(task=napalm_get, getters=["config"], getters_options={"config": {"retrieve": retrieve}})
    return _result(task, collected[0].result)


def get_cdp_neighbors(task: Task) -> Result:
    """The CDP neighbours of each Cisco device, parsed with TextFSM."""
    return command(task, command_string="show cdp neighbors detail", use_textfsm=True)


def ping(task: Task, target: str, count: int = 5) -> Result:
    """Ping a target from each device (NAPALM ``ping``).

    Args:
        target: the address or name to ping
        count: how many echo requests to send
    """
    from nornir_napalm.plugins.tasks import napalm_ping

    answered = task.run(task=napalm_ping, dest=target, count=count)
    return _result(task, answered[0].result)
