"""Finding the user's files and reading them safely: discovery, links, roles, bounded reads,
digests.
"""
