import { openNewChat } from './chat';
import { useChatList } from './chat-list';
import { useModels } from './models';
import { useSession } from './session';

/** Forgets everything loaded for a user when they sign out or their session ends (so the next user sees none of it). */
export function resetOnSignOut(): () => void {
  return useSession.subscribe((state, previous) => {
    if (previous.status !== 'signedIn' || state.status === 'signedIn') return;
    openNewChat();
    useChatList.getState().reset();
    useModels.setState({ models: [], isLoaded: false, error: null, selected: '' });
  });
}
