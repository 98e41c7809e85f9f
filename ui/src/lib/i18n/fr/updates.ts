import type { Translation } from "../en";
import type { updates as english } from "../en/updates";

export const updates: Translation<typeof english> = {
  "updates.title": "Mises à jour",
  "updates.version": "Vous utilisez Skilltrack {version}.",
  "updates.check": "Rechercher des mises à jour",
  "updates.checking": "Recherche…",
  "updates.up_to_date": "Vous avez la version la plus récente.",
  "updates.available": "Skilltrack {version} est disponible.",
  "updates.notes": "Nouveautés",
  "updates.install": "Installer et redémarrer",
  "updates.installing": "Téléchargement de la mise à jour…",
  "updates.progress": "Téléchargement de la mise à jour",
  "updates.installing_now": "Installation : le système peut demander le mot de passe d’un administrateur.",
  "updates.not_installed_from_package": "Cette copie de Skilltrack n’a pas été installée depuis un paquet : elle ne se met pas à jour elle-même. Construisez ou installez la nouvelle version comme vous avez obtenu celle-ci.",
  "updates.no_update_key": "Cette version de Skilltrack a été construite sans clé de mise à jour : elle n’accepte aucune mise à jour. Installez les nouvelles versions depuis un paquet.",
  "updates.notice": "Skilltrack {version} est disponible.",
  "updates.notice_open": "Voir la mise à jour",
  "updates.notice_dismiss": "Plus tard",
  "error.update_signature_invalid": "La mise à jour téléchargée n’est pas signée par l’éditeur de Skilltrack : elle a été refusée et rien n’a été installé. Prévenez l’opérateur du serveur.",
  "error.update_install_failed": "Le système n’a pas pu installer la mise à jour : rien n’a changé.",
  "error.update_failed": "La mise à jour n’a pas pu être recherchée ni installée.",
  "error.update_check_failed": "Le serveur n’a pas répondu à la recherche de mises à jour : il n’en publie peut-être pas encore. Réessayez plus tard.",
  "error.no_update": "Aucune mise à jour à installer : recherchez d’abord les mises à jour.",
};
