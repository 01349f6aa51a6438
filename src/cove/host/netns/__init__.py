"""Linux network namespaces as Cove builds VPCs from them: holders, links, nftables rulesets.

namespaces.py  a namespace held by a process (gone with the server, however it ends),
               commands and sockets inside it, check_support (root or rootless), the
               user namespace a rootless server makes its namespaces in
links.py       routed point-to-point host links, local addresses, uplinks, policy routing
firewall.py    the router's stateful filter rendered from ports, groups and rules
"""
