import { NotebookList } from "../features/notebook-list/NotebookList";

export default function HomePage() {
  return <NotebookList />;
}
