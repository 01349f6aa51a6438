"""Linux network namespaces as Cove builds VPCs from them: holders, links, nftables rulesets."""
