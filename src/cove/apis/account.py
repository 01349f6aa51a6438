"""API Gateway's account settings in a region (GetAccount / UpdateAccount): the IAM role
API Gateway writes CloudWatch logs with, which a stage needs before it may turn execution
logging on (Developer Guide, "Set up CloudWatch logging for REST APIs in API Gateway")."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select

from cove.apis.tables import account_table


class AccountSettings:
    def __init__(self, engine: Engine, account_id: str) -> None:
        self.engine = engine
        self.account_id = account_id

    def cloudwatch_role_arn(self) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(account_table.c.cloudwatch_role_arn).where(
                    account_table.c.account_id == self.account_id
                )
            ).scalar()

    def set_cloudwatch_role_arn(self, arn: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(account_table).where(account_table.c.account_id == self.account_id))
            conn.execute(
                insert(account_table).values(account_id=self.account_id, cloudwatch_role_arn=arn)
            )
