import { describe, expect, it } from 'vitest';
import { gitlabProjectFromRemoteUrl } from '../src/integrations/gitlab-remote.js';

const GITLAB = 'https://gitlab.cee.redhat.com';

describe('gitlabProjectFromRemoteUrl', () => {
  it('reads the project path of https, ssh:// and scp-like remotes on the configured GitLab', () => {
    expect(gitlabProjectFromRemoteUrl('https://gitlab.cee.redhat.com/jdoe/app-interface.git', GITLAB)).toBe('jdoe/app-interface');
    expect(gitlabProjectFromRemoteUrl('https://oauth2:tok@gitlab.cee.redhat.com/jdoe/app-interface', GITLAB)).toBe('jdoe/app-interface');
    expect(gitlabProjectFromRemoteUrl('ssh://git@gitlab.cee.redhat.com:2222/group/sub/app-interface.git', GITLAB)).toBe('group/sub/app-interface');
    expect(gitlabProjectFromRemoteUrl('git@gitlab.cee.redhat.com:jdoe/app-interface.git', GITLAB)).toBe('jdoe/app-interface');
    expect(gitlabProjectFromRemoteUrl('git@GitLab.cee.redhat.com:jdoe/app-interface.git\n', GITLAB)).toBe('jdoe/app-interface');
  });

  it('strips the sub-path a GitLab is served under', () => {
    expect(gitlabProjectFromRemoteUrl('https://example.com/gitlab/jdoe/app-interface.git', 'https://example.com/gitlab/')).toBe('jdoe/app-interface');
  });

  it('gives nothing for another host, a local path or a URL without a project', () => {
    expect(gitlabProjectFromRemoteUrl('git@github.com:jdoe/app-interface.git', GITLAB)).toBeUndefined();
    expect(gitlabProjectFromRemoteUrl('/srv/git/app-interface.git', GITLAB)).toBeUndefined();
    expect(gitlabProjectFromRemoteUrl('file:///srv/git/app-interface.git', GITLAB)).toBeUndefined();
    expect(gitlabProjectFromRemoteUrl('https://gitlab.cee.redhat.com/app-interface.git', GITLAB)).toBeUndefined();
    expect(gitlabProjectFromRemoteUrl('https://gitlab.cee.redhat.com/jdoe/app-interface.git', '')).toBeUndefined();
  });
});
