"""Forms of the data-admin area."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class UploadForm(FlaskForm):
    file = FileField(_l("部门数据文件（CSV、Excel 或 zip）"), validators=[FileRequired(_l("请选择要上传的文件。"))])
