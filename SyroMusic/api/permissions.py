"""Who may call what: staff write the catalogue; playlists follow the access rule in SyroMusic.models."""

from rest_framework import permissions

from SyroMusic.models import Need


class StaffWritesOrReadOnly(permissions.DjangoModelPermissions):
    """Anyone reads; writing needs a staff account with the model's add/change/delete permission."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff) and super().has_permission(request, view)


class PlaylistAccess(permissions.BasePermission):
    """Reading a visible playlist is for anyone who sees it; each change needs what Playlist.allows says."""

    NEEDS = {
        "entries": Need.EDIT_ENTRIES, "entry": Need.EDIT_ENTRIES,
        "collaborators": Need.MANAGE, "collaborator": Need.MANAGE, "share": Need.MANAGE,
        "destroy": Need.DELETE,
    }

    def has_object_permission(self, request, view, playlist):
        if request.method in permissions.SAFE_METHODS:
            return True
        return playlist.allows(request.user, self.NEEDS.get(view.action, Need.MANAGE))
