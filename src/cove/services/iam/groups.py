"""CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup, AddUserToGroup,
RemoveUserFromGroup, ListGroupsForUser."""

from __future__ import annotations

from typing import Any

from cove.gateway.operations import Handler
from cove.http.messages import RequestContext
from cove.identity.directory import Directory
from cove.identity.kinds import EntityKind
from cove.services.iam.paging import page
from cove.services.iam.shapes import entity_shape

GROUP, USER = EntityKind.GROUP, EntityKind.USER


def handlers(directory: Directory) -> dict[str, Handler]:
    entities, members, account = directory.entities, directory.memberships, directory.account_id

    def create_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = entities.create(GROUP, params["GroupName"], params.get("Path", "/"))
        return {"Group": entity_shape(group, account)}

    def get_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = entities.get(GROUP, params["GroupName"])
        chosen, paging = page(members.users_of(group), params, identity=lambda u: u.entity_id)
        users = [entity_shape(u, account) for u in chosen]
        return {"Group": entity_shape(group, account), "Users": users, **paging}

    def list_groups(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = entities.list(GROUP, params.get("PathPrefix", "/"))
        chosen, paging = page(found, params, identity=lambda g: g.entity_id)
        return {"Groups": [entity_shape(g, account) for g in chosen], **paging}

    def update_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["GroupName"]
        entities.update(GROUP, name, params.get("NewGroupName"), params.get("NewPath"))
        return {}

    def delete_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entities.delete(GROUP, params["GroupName"])
        return {}

    def add_user_to_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        members.add(params["GroupName"], params["UserName"])
        return {}

    def remove_user_from_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        members.remove(params["GroupName"], params["UserName"])
        return {}

    def list_groups_for_user(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        user = entities.get(USER, params["UserName"])
        chosen, paging = page(members.groups_of(user), params, identity=lambda g: g.entity_id)
        return {"Groups": [entity_shape(g, account) for g in chosen], **paging}

    return {
        "CreateGroup": create_group,
        "GetGroup": get_group,
        "ListGroups": list_groups,
        "UpdateGroup": update_group,
        "DeleteGroup": delete_group,
        "AddUserToGroup": add_user_to_group,
        "RemoveUserFromGroup": remove_user_from_group,
        "ListGroupsForUser": list_groups_for_user,
    }
