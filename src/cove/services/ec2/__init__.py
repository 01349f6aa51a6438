"""The EC2 API (ec2 protocol): VPCs, subnets, security groups, route tables, internet
gateways, VPC endpoints, network interfaces."""
