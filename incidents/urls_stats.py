from django.urls import path, register_converter

from incidents.views import stats


class ChartFormat:
    regex = "csv|json|svg"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ChartFormat, "chartformat")

app_name = "stats"

urlpatterns = [
    path("", stats.index, name="index"),
    path("compare/", stats.compare, name="compare"),
    path("dataset/", stats.dataset_index, name="dataset"),
    path("dataset/<int:pk>/<str:name>", stats.dataset_file, name="dataset-file"),
    path("<slug:slug>.<chartformat:fmt>", stats.chart_data, name="chart-data"),
]
