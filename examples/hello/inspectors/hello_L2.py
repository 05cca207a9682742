# Inspector for the hello mission's level-2 files, in the original's plugin style.
import datetime

from dbprocessing import inspector
from dbprocessing import Version


class Inspector(inspector.inspector):
    code_name = 'hello_L2.py'

    def inspect(self, kwargs):
        if not self.basename.startswith('hello_L2_'):
            return None
        date = self.extract_YYYYMMDD()
        version = inspector.extract_Version(self.basename)
        if date is None or version is None:
            return None
        self.diskfile.params['utc_file_date'] = date.date()
        self.diskfile.params['utc_start_time'] = date
        self.diskfile.params['utc_stop_time'] = date + datetime.timedelta(days=1)
        self.diskfile.params['version'] = version
        return True
