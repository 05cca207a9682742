# Inspector for the hello mission's level-0 files, in the original's plugin style.
# The filename pattern comes from the arguments, as deployed missions do it:
#   inspector_arguments = prefix={MISSION}_a channel=a
# is loaded as "prefix=hello_a channel=a", so this claims hello_a_L0_YYYYMMDD_vX.Y.Z.txt.
import datetime
import re

from dbprocessing import inspector
from dbprocessing import Version


class Inspector(inspector.inspector):
    code_name = 'hello_L0.py'

    def inspect(self, kwargs):
        prefix = kwargs['prefix']
        channel = kwargs.get('channel', prefix.rsplit('_', 1)[-1])
        if not prefix.endswith('_' + channel):
            raise ValueError('prefix %r is not for channel %r' % (prefix, channel))
        m = re.match('^' + re.escape(prefix) + r'_L0_(\d{8})_v(\d+\.\d+\.\d+)\.txt$',
                     self.basename)
        if m is None:
            return None
        day = datetime.datetime.strptime(m.group(1), '%Y%m%d')
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day + datetime.timedelta(days=1)
        self.diskfile.params['version'] = Version.Version.fromString(m.group(2))
        return True
