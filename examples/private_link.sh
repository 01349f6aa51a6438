#!/usr/bin/env bash
# Seed 000, "Secure prediction calls in Amazon SageMaker with AWS PrivateLink", with the
# AWS CLI as the seed does it: a VPC with two subnets in two AZs, a security group that
# allows HTTPS from the VPC, the SageMaker Runtime interface endpoint; from a host in the
# VPC (`cove exec`), invoke-endpoint through the endpoint's DNS name, then, with private
# DNS, through the default hostname; a host whose group the endpoint does not allow times
# out; an endpoint policy that denies the endpoint is refused with AWS's message.
#
#   eval "$(cove env)"          # a running `cove server` (root, or rootless: same user)
#   examples/private_link.sh ENDPOINT_NAME [CSV_ROW]
#
# ENDPOINT_NAME is an InService endpoint (examples/breast_cancer.py deploys one); the row
# defaults to the seed's breast-cancer row. Everything the script makes it deletes.
set -euo pipefail

ENDPOINT=${1:?usage: private_link.sh ENDPOINT_NAME [CSV_ROW]}
ROW=${2:-13.49,22.3,86.91,561.0,0.08752,0.07698,0.04751,0.03384,0.1809,0.05718,0.2338,1.353,1.735,20.2,0.004455,0.01382,0.02095,0.01184,0.01641,0.001956,15.15,31.82,99.0,698.8,0.1162,0.1711,0.2282,0.1282,0.2871,0.06917}
REGION=${AWS_DEFAULT_REGION:-us-east-1}
COVE=${COVE:-cove}
ACCOUNT=$(aws sts get-caller-identity --query Account --output text)
step() { echo "==> $*"; }

VPC="" VPCE="" ROLE="" DENIED=$(mktemp)
cleanup() {
    set +e
    rm -f "$DENIED"
    [ -n "$VPCE" ] && aws ec2 delete-vpc-endpoints --vpc-endpoint-ids "$VPCE" >/dev/null
    if [ -n "$ROLE" ]; then
        aws iam delete-role-policy --role-name "$ROLE" --policy-name invoke >/dev/null
        aws iam delete-role --role-name "$ROLE" >/dev/null
    fi
    if [ -n "$VPC" ]; then
        for id in $(aws ec2 describe-subnets --filters "Name=vpc-id,Values=$VPC" \
                --query 'Subnets[].SubnetId' --output text); do
            aws ec2 delete-subnet --subnet-id "$id"
        done
        for id in $(aws ec2 describe-security-groups --filters "Name=vpc-id,Values=$VPC" \
                --query "SecurityGroups[?GroupName!='default'].GroupId" --output text); do
            aws ec2 delete-security-group --group-id "$id"
        done
        aws ec2 delete-vpc --vpc-id "$VPC"
    fi
}
trap cleanup EXIT

step "A VPC with two subnets in two availability zones"
VPC=$(aws ec2 create-vpc --cidr-block 10.10.0.0/16 --query Vpc.VpcId --output text)
SUBNET_A=$(aws ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.10.1.0/24 \
    --availability-zone "${REGION}a" --query Subnet.SubnetId --output text)
SUBNET_B=$(aws ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.10.2.0/24 \
    --availability-zone "${REGION}b" --query Subnet.SubnetId --output text)
echo "$VPC: $SUBNET_A (${REGION}a), $SUBNET_B (${REGION}b)"

step "Security groups: the endpoint's allows HTTPS from clients; a client's; an outsider's"
CLIENTS=$(aws ec2 create-security-group --vpc-id "$VPC" --group-name clients \
    --description "hosts that may call the endpoint" --query GroupId --output text)
OUTSIDERS=$(aws ec2 create-security-group --vpc-id "$VPC" --group-name outsiders \
    --description "hosts the endpoint does not allow" --query GroupId --output text)
ENDPOINT_SG=$(aws ec2 create-security-group --vpc-id "$VPC" --group-name runtime-endpoint \
    --description "HTTPS from the clients" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$ENDPOINT_SG" --protocol tcp --port 443 \
    --source-group "$CLIENTS" >/dev/null

step "A role for the hosts: trusted by EC2, allowed only sagemaker:InvokeEndpoint"
ROLE=private-link-client-$$
aws iam create-role --role-name "$ROLE" --assume-role-policy-document '{
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]}' >/dev/null
aws iam put-role-policy --role-name "$ROLE" --policy-name invoke --policy-document '{
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*"}]}'
ROLE_ARN="arn:aws:iam::$ACCOUNT:role/$ROLE"

step "The SageMaker Runtime interface endpoint, private DNS off"
VPCE=$(aws ec2 create-vpc-endpoint --vpc-id "$VPC" --vpc-endpoint-type Interface \
    --service-name "com.amazonaws.$REGION.sagemaker.runtime" \
    --subnet-ids "$SUBNET_A" "$SUBNET_B" --security-group-ids "$ENDPOINT_SG" \
    --no-private-dns-enabled --query VpcEndpoint.VpcEndpointId --output text)
for _ in $(seq 60); do
    STATE=$(aws ec2 describe-vpc-endpoints --vpc-endpoint-ids "$VPCE" \
        --query 'VpcEndpoints[0].State' --output text)
    [ "$STATE" = available ] && break
    sleep 0.5
done
DNS=$(aws ec2 describe-vpc-endpoints --vpc-endpoint-ids "$VPCE" \
    --query 'VpcEndpoints[0].DnsEntries[0].DnsName' --output text)
echo "$VPCE is $STATE at $DNS"

invoke() {  # invoke [--endpoint-url URL]: from a host in subnet A in the clients group
    "$COVE" exec --subnet "$SUBNET_A" --security-group "$CLIENTS" --role "$ROLE_ARN" -- \
        aws sagemaker-runtime invoke-endpoint "$@" --endpoint-name "$ENDPOINT" \
        --content-type text/csv --body "$ROW" /dev/stdout
}

step "Invoke through the endpoint's DNS name (--endpoint-url), from a host in the VPC"
echo "Prediction: $(invoke --endpoint-url "https://$DNS" | head -c 200)"

step "Private DNS on: the default hostname resolves to the endpoint inside the VPC"
aws ec2 modify-vpc-attribute --vpc-id "$VPC" --enable-dns-hostnames '{"Value": true}'
aws ec2 modify-vpc-endpoint --vpc-endpoint-id "$VPCE" --private-dns-enabled >/dev/null
"$COVE" exec --subnet "$SUBNET_B" --security-group "$CLIENTS" -- \
    getent hosts "runtime.sagemaker.$REGION.amazonaws.com"
echo "Prediction: $(invoke | head -c 200)"

step "A host whose group the endpoint does not allow times out"
CODE=0
"$COVE" exec --subnet "$SUBNET_A" --security-group "$OUTSIDERS" -- \
    curl -sS --max-time 3 -o /dev/null "https://runtime.sagemaker.$REGION.amazonaws.com/ping" \
    || CODE=$?
if [ "$CODE" != 28 ]; then  # curl's "operation timed out"
    echo "unexpected: the outsider's curl ended with $CODE, not a timeout" >&2
    exit 1
fi
echo "The outsider's connection timed out, as in AWS"

step "An endpoint policy that denies this endpoint is refused with AWS's message"
aws ec2 modify-vpc-endpoint --vpc-endpoint-id "$VPCE" --policy-document "{
    \"Statement\": [{\"Effect\": \"Deny\", \"Principal\": \"*\",
                    \"Action\": \"sagemaker:InvokeEndpoint\",
                    \"Resource\": \"arn:aws:sagemaker:$REGION:$ACCOUNT:endpoint/${ENDPOINT,,}\"},
                   {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\",
                    \"Resource\": \"*\"}]}" >/dev/null
if invoke 2>"$DENIED"; then
    echo "unexpected: the denied call answered" >&2
    exit 1
fi
grep -o "with an explicit deny in a VPC endpoint policy" "$DENIED"

step "Clean up"
