from django.urls import path

from . import views

# Included by reviews/urls.py under the "reviews" namespace.
urlpatterns = [
    path("queue/live/", views.queue_live, name="queue_live"),
    path("claim-next/", views.claim_next, name="claim_next"),
    path("tasks/<int:task_id>/", views.task_detail, name="task"),
    path("tasks/<int:task_id>/document/", views.task_document, name="task_document"),
    path("tasks/<int:task_id>/decide/", views.task_decide, name="task_decide"),
    path("tasks/<int:task_id>/claim/", views.task_claim, name="task_claim"),
    path("tasks/<int:task_id>/release/", views.task_release, name="task_release"),
    path("tasks/<int:task_id>/heartbeat/", views.task_heartbeat, name="heartbeat"),
    path("tasks/<int:task_id>/reassign/", views.task_reassign, name="task_reassign"),
    path("board/", views.board, name="board"),
    path("board/bulk/", views.board_bulk, name="board_bulk"),
    path("board/live/", views.board_live, name="board_live"),
]
