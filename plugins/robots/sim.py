"""placeholder"""
def add_command(subparsers):
    pass
