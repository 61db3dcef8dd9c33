"""The command template over real SSH: Nornir, netmiko and OpenSSH on loopback."""

from __future__ import annotations


def test_command_runs_over_ssh(app, make_user, login, ssh_server):
    headers = login(make_user("root", superuser=True))
    inventory = app.post_json("/api/jobs/inventories", {"name": "ssh"}, headers=headers, status=201).json["id"]
    app.post_json(
        f"/api/jobs/inventories/{inventory}/hosts",
        {
            "name": "loopback",
            "hostname": ssh_server["host"],
            "port": ssh_server["port"],
            "username": ssh_server["username"],
            "platform": "linux",
            "connection_options": {
                "netmiko": {"extras": {"use_keys": True, "key_file": ssh_server["key_file"], "allow_agent": False}}
            },
        },
        headers=headers,
        status=201,
    )
    app.post_json(
        f"/api/jobs/inventories/{inventory}/hosts",
        {"name": "nobody-home", "hostname": "127.0.0.1", "port": 1, "username": "x", "platform": "linux"},
        headers=headers,
        status=201,
    )
    run = app.post_json(
        "/api/jobs/runs",
        {"template": "command", "inventory_id": inventory, "variables": {"command_string": "echo pyramidion-$((6*7))"}},
        headers=headers,
        status=202,
    ).json
    after = app.get(f"/api/jobs/runs/{run['id']}", headers=headers).json
    assert (after["status"], after["hosts_total"], after["hosts_failed"]) == ("failed", 2, 1)
    hosts = {h["host"]: h for h in app.get(f"/api/jobs/runs/{run['id']}/hosts", headers=headers).json["results"]}
    top = hosts["loopback"]["result"][0]
    assert top["result"].strip() == "pyramidion-42"
    assert top["subtasks"][0]["name"] == "netmiko_send_command"
    assert hosts["nobody-home"]["failed"] is True
