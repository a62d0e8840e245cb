import { NotebookList } from "../components/NotebookList";

export default function HomePage() {
  return <NotebookList />;
}
